"""The brand colours the stylesheet defines (static/css/portal.css, `.brand-*`), each checked for WCAG AA contrast
with white text and on white. Issuers and programs pick one by name: a free colour value could fail contrast, and
the CSP forbids inline styles that could carry it."""

BRAND_COLOURS = [("blue", "Blue"), ("teal", "Teal"), ("green", "Green"), ("plum", "Plum"), ("ember", "Ember")]
