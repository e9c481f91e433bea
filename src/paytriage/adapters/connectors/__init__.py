"""Connectors: file formats (CSV, JSON, JSONL, Zendesk export), Jira and Zendesk APIs."""
