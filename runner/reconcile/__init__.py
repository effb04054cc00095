"""Carrying out a plan: the run (`run`), its quota slots (`scheduler`), creating and
adopting jobs (`submit`), the one poller of job statuses (`poller`, also used by `wait`
and `status --refresh`), and the run's report (`report`)."""
