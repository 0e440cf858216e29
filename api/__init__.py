"""The HTTP service over the rag library."""
