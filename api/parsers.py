"""The API's one body parser: DRF's JSON parser, with the bodies it cannot read answered as bad input."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # DRF turns a ValueError into a 400, but a body nested deeper than Python's recursion limit ([[[[...]]]],
        # a few kilobytes) raises RecursionError from the decoder, which answered 500 and logged a traceback.
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError() from None
