"""The lending marketplace API: a Connexion app over a DynamoDB store."""
