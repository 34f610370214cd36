"""The practice lab's worker jobs (test connection) and the runner's place in the worker."""
