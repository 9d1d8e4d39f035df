"""Policy documents as pure functions returning dicts; components serialise and attach them."""
