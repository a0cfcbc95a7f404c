"""What AWS Lambda invokes: the HTTP API behind API Gateway (`http`), the scheduled expiry job
(`expiry`) and the notifier on the loan events' stream (`notifier`)."""
