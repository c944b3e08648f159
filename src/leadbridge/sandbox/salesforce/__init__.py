"""salesforce."""
