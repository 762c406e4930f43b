"""The embeddable Arabic widget: the /widget page and the /widget.js loader."""
