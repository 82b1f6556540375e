"""patriline.store"""
