"""Everything HTTP: the Connexion app, its validation, security hook, errors and middleware."""
