"""The family calendar: Vietnam's lunar dates (the astronomy is lunar-vn's), festivals,
family events with their recurrence rules, and reminders delivered once each."""
