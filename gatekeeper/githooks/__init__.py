"""Git hooks: installing the pre-push gate and running it for every pushed ref."""
