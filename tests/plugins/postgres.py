"""PostgreSQL fixtures (owned by the store): a throwaway cluster started by the tests."""
