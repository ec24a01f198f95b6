"""The claim language: tokenizer, parser, declarations, type pass, text printer."""
