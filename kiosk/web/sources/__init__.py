"""What the maintenance pages read from outside the database: the export targets, the host, the
service logs and the path to the central server."""
