"""Card readers (PC/SC, keyboard-wedge, RDM6300 UART, simulated), card policies and the card service."""
