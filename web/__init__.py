"""The web app: the customers' request form and status pages, and the staff JSON API."""
