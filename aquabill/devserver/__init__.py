"""Development servers: throwaway local PostgreSQL and Redis, and `aquabill dev` (`make run`)."""
