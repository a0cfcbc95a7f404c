"""HTTP entry points, one module per OpenAPI tag. Each handler gets the app's `Services`
first, then what Connexion parsed from the request; it calls one use case and translates
its answer to the contract's JSON. Nothing else."""
