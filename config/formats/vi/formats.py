"""Short dates as Vietnamese readers write them, 02/12/2026, where Django's own Vietnamese formats write 02-12-2026.
The dashboard's period labels (reports/dashboard.py, reports/complaints.py) already use slashes, so one page no
longer mixes the two. Long dates start in lower case, "ngày 04 tháng 1 năm 2027": they are written inside a sentence
("... có hiệu lực đến ngày 04 tháng 1 năm 2027"), where Django's "Ngày" reads as a capital in mid-sentence. Every
other format is Django's."""

DATE_FORMAT = r"\n\gà\y d \t\há\n\g n \nă\m Y"
DATETIME_FORMAT = r"H:i \n\gà\y d \t\há\n\g n \nă\m Y"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
