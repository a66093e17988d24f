"""How requests come in through the web: the item types admins define (each with its fields
and where its items go), the forms that offer them, and the submissions of people who are
not signed in, held until they confirm their address."""
