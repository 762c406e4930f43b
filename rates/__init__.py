"""Official exchange rates of foreign currencies against the Iraqi dinar."""
