"""The web shell: base layout (right-to-left in Hebrew), language switch, the member portal."""
