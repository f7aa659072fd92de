"""Contact-center pages and APIs: live console, calls, appeals, mail, telephonograms, requests, working calendar."""
