"""The web application, configuration, auth, audit, jobs and the real-time hub."""
