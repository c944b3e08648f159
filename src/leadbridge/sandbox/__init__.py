"""Local emulators of the Apollo, Salesforce and HubSpot APIs (FastAPI apps), with fault knobs."""
