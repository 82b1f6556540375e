"""patriline.simulate"""
