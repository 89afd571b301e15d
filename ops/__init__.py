"""Operations commands (boto3) for the global-api databases: replication check and failover drill."""
