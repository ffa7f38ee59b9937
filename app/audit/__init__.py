"""The audit log as organizers read it: every organizer action and every verdict of a round."""
