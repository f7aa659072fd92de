"""The shared base every layer may import: the one family of refusals (`errors`) and the platform's table
definitions (`tables`). It imports nothing else of aquabill."""
