"""What the usage log shows: answers, returns and the credit they give entries and
contributors, as text, JSON and a self-contained HTML page with charts."""
