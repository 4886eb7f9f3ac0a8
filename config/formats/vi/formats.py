"""Short dates as Vietnamese readers write them, 02/12/2026, where Django's own Vietnamese formats write 02-12-2026.
The dashboard's period labels (reports/dashboard.py, reports/complaints.py) already use slashes, so one page no
longer mixes the two. Every other format is Django's."""

SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
