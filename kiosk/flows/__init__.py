"""UI-free business rules and flows. Never import Kivy here."""
