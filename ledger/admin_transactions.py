"""Staff admin for transactions and bookings."""
