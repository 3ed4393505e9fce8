"""awsresp: who secures each layer of an AWS estate, and which customer layers lack control."""

__version__ = "0.1.0"
