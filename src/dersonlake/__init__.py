"""Derson Lake: operational MySQL/MariaDB databases into a data lake, the way AWS DMS does it.

The package tree follows the data path (see DESIGN.md): ``sources`` read the database, ``mapping``
decides what is read and how it is shaped, ``replication`` runs tasks, ``lake`` writes files;
``states`` runs the ASL pipelines, ``intake`` is the seed's DMS-intake Lambda, ``api`` the local
AWS-compatible server, ``cli`` the command line.
"""

__version__ = "0.1.0"
