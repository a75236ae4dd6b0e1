"""Feedback to the employee outside the screen: LEDs, buzzer, door relay."""
