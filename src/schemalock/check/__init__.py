"""The check stage: findings, the rule engine, the invalid-lock judgement and `verify`."""
