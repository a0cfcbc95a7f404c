"""What AWS Lambda invokes: the HTTP API behind API Gateway (`http`)."""
