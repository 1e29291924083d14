"""footage's test suite. A package so that ``tests.helpers`` imports from the repository root;
the test folders themselves are not packages (pytest imports their modules by file name)."""
