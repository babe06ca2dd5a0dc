"""Core basics every layer may use: ID numbers, persons, working days, errors,
durable storage and settings. Nothing here imports any other kiosk package
(only ``kiosk`` itself for its paths), so every layer can import it."""
