"""The two small types the language's modules share: an array's shape and a span of text."""

Shape = tuple[int, ...]
Span = tuple[int, int]  # start and end of a node in the expression text
