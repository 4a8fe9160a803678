"""shuttle: the message shuttle of a restorative-justice service.

Messages travel author -> encrypted store -> worker -> facilitator review -> release
gates -> recipient, and never any other way (see ../shared/DESIGN.md).
"""
