"""Request and response bodies, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inkdigit.engine.defaults import TOP_K_DEFAULT, TOP_K_MAX


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable snake_case identifier to branch on.")
    message: str = Field(description="What went wrong, for a person.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class TopItem(BaseModel):
    digit: int
    confidence: float


class PredictOptions(BaseModel):
    """Options that may also travel in the JSON body or as multipart form fields."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    top_k: int = Field(TOP_K_DEFAULT, ge=1, le=TOP_K_MAX, description="How many candidates to return in `top`.")
    model: str | None = Field(None, max_length=100, description="Model name (default: the server's).")
    debug: bool = Field(False, description="Include every preprocessing stage as a PNG data URL.")
    source: Literal["canvas", "upload", "api"] = Field(
        "api", description="Where the image came from, kept in a signed-in user's history (`canvas`: drawn in "
        "the page, `upload`: a file a person chose, `api`: a program).")


class PredictJSON(PredictOptions):
    image: str = Field(description="The image as a data URL (data:image/png;base64,…) or plain base64.")


class PredictResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    digit: int | None = Field(description="The digit read; null when the image is blank or not a digit.")
    confidence: float = Field(description="Calibrated probability of `digit` (0 for a blank image).")
    is_digit: bool = Field(description="False for a blank image or one judged not to be a digit.")
    is_empty: bool = Field(description="True when the image holds no ink at all.")
    probabilities: list[float] = Field(description="Probability of each digit 0–9.")
    top: list[TopItem]
    model: str
    elapsed_ms: float = Field(description="Time spent reading this image on the server.")
    stages: dict[str, str] | None = Field(None, description="Preprocessing stages as PNG data URLs.")
    id: int | None = Field(None, description="Signed-in users: the history entry that keeps this reading "
                           "(absent for anonymous readings).")


class DigitFound(BaseModel):
    digit: int | None = Field(description="The digit read; null when this piece is not judged a digit.")
    confidence: float = Field(description="Calibrated probability of the best reading of this piece.")
    is_digit: bool
    box: list[int] = Field(description="[x, y, width, height] in the image's pixels.", min_length=4, max_length=4)
    top: list[TopItem]
    image: str | None = Field(None, description="With `debug`: the piece as the model saw it (PNG data URL).")


class SeparatorFound(BaseModel):
    kind: str = Field(description="`space`, `dot`, `comma` or `dash`.")
    box: list[int] = Field(description="[x, y, width, height] in the image's pixels.", min_length=4, max_length=4)
    after: int = Field(description="How many digits come before it.")


class RecognizeResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    text: str = Field(description="The digits read, left to right (\"?\" for a piece that is not a digit).")
    formatted: str = Field(description="The text with its separators: \"12 345.50\".")
    confidence: float = Field(description="Probability that every digit is right (their product).")
    is_empty: bool = Field(description="True when the image holds no ink at all (text is then \"\").")
    digits: list[DigitFound]
    separators: list[SeparatorFound]
    model: str
    elapsed_ms: float = Field(description="Time spent reading this image on the server.")
    id: int | None = Field(None, description="Signed-in users: the history entry that keeps this reading.")


class RecognizeBatchResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model: str
    results: list[RecognizeResponse | BatchItemError]
    elapsed_ms: float


class BatchItemError(BaseModel):
    error: ErrorDetail


class BatchResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model: str
    results: list[PredictResponse | BatchItemError]
    elapsed_ms: float


class ModelInfo(BaseModel):
    name: str
    family: str
    default: bool
    personal: bool = Field(False, description="The signed-in user's own fine-tuned model (listed to them only).")
    preprocessing_version: str
    browser: bool = Field(False, description="A browser can run it: its ONNX file and card are at "
                          "/api/v1/models/{name}/onnx and /api/v1/models/{name}/card.")
    metrics: dict[str, dict[str, float | int]]


class ModelsResponse(BaseModel):
    default: str
    models: list[ModelInfo]


class Status(BaseModel):
    status: str
