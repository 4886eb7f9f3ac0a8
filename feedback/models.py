# Complaint cases and corrective actions arrive with the feedback issue; the app is installed so that its
# migrations and signal listeners have a home from the start.
