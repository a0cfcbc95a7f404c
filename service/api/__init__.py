"""HTTP entry points, one module per OpenAPI tag: they translate HTTP to use cases and back."""
