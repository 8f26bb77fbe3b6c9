"""What the receiver and the workers both need: settings, constants, errors, the payload model."""
