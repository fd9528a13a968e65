"""What the processes the tests start load at start-up (sitecustomize.py says what and why)."""
