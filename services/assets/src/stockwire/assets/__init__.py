"""Stockwire assets: the life of every serialized device, from receipt to disposal; its
maintenance, failures, warranty and RMAs; reliability per model; and how far the records
agree with what the network sees."""
