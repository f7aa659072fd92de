"""What the messenger adapters share: the conversation runtime (tenant transaction, webhook secrets, the
tenant's bot looked up by slug), outgoing pacing, and the per-process hub of both channels."""
