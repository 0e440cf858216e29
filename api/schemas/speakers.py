"""Bodies of GET and PATCH /speakers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.fields import StoredName


class SpeakerAliasOut(BaseModel):
    name: str = Field(
        ..., description="A name as written in the transcripts.", examples=["Foreign Minister Sergey Lavrov"]
    )
    passages: int = Field(..., description="Passages under this name.", examples=[3])


class SpeakerOut(BaseModel):
    name: str = Field(..., description="The person's canonical name.", examples=["Sergey Lavrov"])
    passages: int = Field(..., description="Passages of theirs in the index, under all their names.", examples=[21])
    aliases: list[SpeakerAliasOut] = Field(
        ...,
        description="Every name they appear under in the transcripts.",
        examples=[
            [{"name": "Sergey Lavrov", "passages": 18}, {"name": "Foreign Minister Sergey Lavrov", "passages": 3}]
        ],
    )


class SpeakerRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StoredName = Field(
        ..., description="Any name of the person: as written, canonical, or a surname.", examples=["SPEAKER_01"]
    )
    to: StoredName = Field(..., description="Their new canonical name.", examples=["Maria Zakharova"])


class SpeakerMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[StoredName] = Field(..., min_length=1, description="People to merge.", examples=[["Vladmir Putin"]])
    into: StoredName = Field(..., description="The person they are merged into.", examples=["Vladimir Putin"])


class SpeakersPatch(BaseModel):
    """Exactly one of rename and merge."""

    # the schema says "exactly one" too, so that clients (and schemathesis) know that a body with neither,
    # or with both, is refused; neither may be null (a default of None is not validated)
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["rename"]}, {"required": ["merge"]}]}
    )

    rename: SpeakerRename = Field(
        None,
        description="Give a person a new canonical name (give this or merge, not both).",
        examples=[{"name": "SPEAKER_01", "to": "Maria Zakharova"}],
    )
    merge: SpeakerMerge = Field(
        None,
        description="Make several names one person (give this or rename, not both).",
        examples=[{"names": ["Vladmir Putin"], "into": "Vladimir Putin"}],
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SpeakersPatch:
        if (self.rename is None) == (self.merge is None):
            raise ValueError("give exactly one of rename or merge")
        return self
