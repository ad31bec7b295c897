"""GitHub Actions: rendering the workflow and making its aggregate job a required check."""
