"""Bodies of /health and /ready."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReadyOut(BaseModel):
    status: Literal["ready"] = Field("ready", description="The index and the model are loaded.", examples=["ready"])
    documents: int = Field(..., description="Documents indexed.", examples=[4])
    passages: int = Field(..., description="Passages indexed.", examples=[57])
    model: str = Field(..., description="The embedding model.", examples=["all-MiniLM-L6-v2"])


class HealthOut(BaseModel):
    status: Literal["ok"] = Field("ok", description="The process is up.", examples=["ok"])
    index: str = Field(
        ..., description="The index directory, or the database URL with its password masked.", examples=["index"]
    )
    documents: int | None = Field(None, description="Documents indexed; null when there is no index yet.", examples=[4])
    passages: int | None = Field(None, description="Passages indexed; null when there is no index yet.", examples=[57])
    model: str | None = Field(None, description="The embedding model of the index.", examples=["all-MiniLM-L6-v2"])
