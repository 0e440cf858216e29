"""Field types, validators and the shapes shared by the HTTP API's bodies."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from api.schemas.examples import SEED_TITLE
from rag.dates import iso_day


def _encodable(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they cannot be stored or embedded as UTF-8
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# A character that is white space neither to Python (str.strip, which also strips U+001C..U+001F and U+0085)
# nor to JSON Schema (ECMA-262 \s, which also counts U+FEFF): the schema's pattern and the validators must
# agree on what "blank" means, or a schema-valid "\x1d" is refused.
_INVISIBLE = r"\s\x1c-\x1f\x85\ufeff"
VISIBLE = f"[^{_INVISIBLE}]"


VISIBLE_RE = re.compile(VISIBLE)


def _not_blank(value: str) -> str:
    if not VISIBLE_RE.search(value):
        raise ValueError("must not be empty")
    return value


def _iso_day(value: object) -> object:
    # pydantic would also take numbers as Unix timestamps; the schema promises YYYY-MM-DD only
    if isinstance(value, dt.date) or (isinstance(value, str) and iso_day(value) is not None):
        return value
    raise ValueError("must be a date YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_day)]


Text = Annotated[str, AfterValidator(_encodable)]
def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not true or false")
    return value


# a count a client sends: a JSON integer (2.0 too, as JSON Schema has it), not `true`, which lax validation takes for 1
Count = Annotated[int, BeforeValidator(_not_bool)]


# the pattern tells generated clients (and schemathesis) what the validator enforces
NonBlankText = Annotated[Text, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": VISIBLE})]


def _no_nul(value: str) -> str:
    # text that is stored, or looked up among what is stored: a database cannot hold NUL ("\u0000") in text,
    # so neither backend takes it (files holding it are refused as binary already)
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NO_NUL = r"^[^\x00]*$"
# text that is stored or looked up: no NUL character
StoredText = Annotated[Text, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": NO_NUL})]
# ... and not blank either: one pattern saying both (a visible character, no NUL anywhere)
StoredName = Annotated[
    Text,
    AfterValidator(_not_blank),
    AfterValidator(_no_nul),
    Field(json_schema_extra={"pattern": rf"^[^\x00]*[^{_INVISIBLE}\x00][^\x00]*$"}),
]


class DocumentRef(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["000_8fcf709333f4d63f"])
    title: str = Field(..., description="The document's title.", examples=[SEED_TITLE])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2025-02-13"])
    place: str | None = Field(None, description="Where the event took place.", examples=["Moscow"])
    source: str | None = Field(
        None, description="File or URL the transcript came from.", examples=["examples/000_8fcf709333f4d63f.txt"]
    )
    media_url: str | None = Field(
        None,
        description="The recording the transcript is of (http or https), where known; with a start time it is"
        " played from `#t=SECONDS`.",
        examples=["https://media.example.org/keller-interview.mp3"],
    )


class ErrorOut(BaseModel):
    error: str = Field(
        ..., description="What is wrong, in words.", examples=["k: Input should be less than or equal to 100"]
    )
    field: str | None = Field(None, description="The request field at fault, dotted.", examples=["k"])
